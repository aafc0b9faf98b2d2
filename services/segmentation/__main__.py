from pathlib import Path

from services.segmentation.app import create_app
from services.segmentation.settings import SegmentationSettings
from shared.serve import serve

if __name__ == "__main__":
    serve(SegmentationSettings(), create_app, Path(__file__).parent / "migrations")
