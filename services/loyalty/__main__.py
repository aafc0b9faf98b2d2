from pathlib import Path

from services.loyalty.app import create_app
from services.loyalty.settings import LoyaltySettings
from shared.serve import serve

if __name__ == "__main__":
    serve(LoyaltySettings(), create_app, Path(__file__).parent / "migrations")
