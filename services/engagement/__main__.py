from pathlib import Path

from services.engagement.app import create_app
from services.engagement.settings import EngagementSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(EngagementSettings(), create_app, Path(__file__).parent / "migrations")
