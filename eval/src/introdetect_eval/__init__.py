"""What introdetect is measured with, apart from the product: the evaluation corpus (``corpus``), real recordings
from Debian packages (``debsources``), the baselines (``baselines``), a sample episode made with ffmpeg
(``samples``) and the demo (``demo``)."""
