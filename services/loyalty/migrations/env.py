from services.loyalty.models import Base
from shared.migrations import run_env
from shared.tables import kit_metadata

run_env([Base.metadata, kit_metadata])
