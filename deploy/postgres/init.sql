-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
-- One database per service: no service reads another's tables. Each service applies its own
-- migrations to its database when it starts (python -m services.<name>).
CREATE DATABASE profile;
CREATE DATABASE segmentation;
CREATE DATABASE engagement;
CREATE DATABASE ticketing;
CREATE DATABASE loyalty;
