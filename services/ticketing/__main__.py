from pathlib import Path

from services.ticketing.app import create_app
from services.ticketing.settings import TicketingSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(TicketingSettings(), create_app, Path(__file__).parent / "migrations")
