"""Visual stimuli: image data sets, image transforms and a Gabor encoder into Poisson rates.

>>> from spikebridge.stimuli import boundary_contour_shapes, Resize, GaborEncoder
>>> images = boundary_contour_shapes(4, 2)                  # 8 images, 128x128, annotations top/left/bottom/right
>>> len(images), images.shape
(8, (128, 128))
>>> rates = GaborEncoder().rates(Resize(16)(images[0]))     # [8 channels, 16, 16] Hz
>>> rates.shape, float(rates.max())
((8, 16, 16), 60.0)
"""

from .gabor import Encoder, GaborEncoder, NormalisedGaborEncoder, gabor_kernel, opencv_gabor_kernel
from .images import ImageSet, boundary_contour_shapes
from .transforms import Compose, GaussianNoise, Resize

__all__ = [
    "Compose",
    "Encoder",
    "GaborEncoder",
    "GaussianNoise",
    "ImageSet",
    "NormalisedGaborEncoder",
    "Resize",
    "boundary_contour_shapes",
    "gabor_kernel",
    "opencv_gabor_kernel",
]
