from pathlib import Path

from services.profile.app import create_app
from services.profile.settings import ProfileSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(ProfileSettings(), create_app, Path(__file__).parent / "migrations")
