"""Image data sets: grey-level images (0-255) with an annotations table, read from a folder or generated.

A data set folder holds ``annotations.csv`` (an ``image_id`` column, then one column per annotation, and
optionally a ``file`` column) and one PNG per row: ``file`` if given, else ``{image_id}.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_file
from ..errors import SpikebridgeError

ANNOTATIONS = "annotations.csv"
SIDES = ("top", "left", "bottom", "right")


class DatasetError(SpikebridgeError):
    """An image data set folder is missing files or holds something unreadable."""


@dataclass(frozen=True)
class ImageSet:
    """Images ``[n, rows, cols]`` (float64, grey levels 0-255) and their annotations (one row per image).

    Parameters
    ----------
    images : numpy.ndarray
        ``[n, rows, cols]`` grey levels.
    annotations : pandas.DataFrame
        One row per image, with an ``image_id`` column.

    Raises
    ------
    DatasetError
        If the images are not 3-D, the row count differs, or ``image_id`` is missing.
    """

    images: np.ndarray
    annotations: pd.DataFrame

    def __post_init__(self) -> None:
        if self.images.ndim != 3:
            raise DatasetError(f"expected images of shape [n, rows, cols], got {self.images.shape}")
        if len(self.annotations) != len(self.images):
            raise DatasetError(f"{len(self.images)} images but {len(self.annotations)} annotation rows")
        if "image_id" not in self.annotations.columns:
            raise DatasetError("annotations need an 'image_id' column")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.images[index]

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of every image (pixels)."""
        return (int(self.images.shape[1]), int(self.images.shape[2]))

    def save(self, folder: str | Path) -> Path:
        """Write ``{image_id}.png`` per image (8-bit grey) and ``annotations.csv``.

        Parameters
        ----------
        folder : str or pathlib.Path
            Created if missing; existing files of the same names are replaced (atomically).

        Returns
        -------
        pathlib.Path
            The folder.
        """
        from PIL import Image

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for image_id, image in zip(self.annotations["image_id"], self.images, strict=True):
            with atomic_file(out / f"{image_id}.png") as fh:
                Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8), mode="L").save(fh, format="PNG")
        with atomic_file(out / ANNOTATIONS) as fh:
            fh.write(self.annotations.drop(columns=["file"], errors="ignore").to_csv(index=False).encode())
        return out

    @classmethod
    def from_folder(cls, folder: str | Path) -> ImageSet:
        """Read a data set folder (see the module docstring).

        Parameters
        ----------
        folder : str or pathlib.Path
            Holds ``annotations.csv`` and the PNG files it names.

        Returns
        -------
        ImageSet
            The images as float64 grey levels.

        Raises
        ------
        DatasetError
            If the table or an image is missing or unreadable, or the images differ in size.
        """
        from PIL import Image, UnidentifiedImageError

        root = Path(folder)
        table = root / ANNOTATIONS
        if not table.is_file():
            raise DatasetError(f"{root}: no {ANNOTATIONS} (expected an 'image_id' column and one column per annotation)")
        annotations = pd.read_csv(table)
        if "image_id" not in annotations.columns:
            raise DatasetError(f"{table}: no 'image_id' column (columns: {', '.join(annotations.columns)})")
        images = []
        for k, row in annotations.iterrows():
            name = row["file"] if "file" in annotations.columns else f"{row['image_id']}.png"
            path = root / str(name)
            try:
                with Image.open(path) as im:
                    images.append(np.asarray(im.convert("L"), dtype=np.float64))
            except FileNotFoundError:
                raise DatasetError(f"{table}: row {k} names {path.name}, which does not exist in {root}") from None
            except UnidentifiedImageError:
                raise DatasetError(f"{path}: not an image Pillow can read") from None
        shapes = {im.shape for im in images}
        if len(shapes) > 1:
            raise DatasetError(f"{root}: images differ in size ({sorted(shapes)}); resize them to one size first")
        return cls(np.stack(images) if images else np.empty((0, 0, 0)), annotations.reset_index(drop=True))


def _side_code(index: int) -> dict[str, int]:
    """Convexity of each side (1 convex, 0 concave) from the bits of ``index``: left, right, top, bottom."""
    return {"left": index & 1, "right": (index >> 1) & 1, "top": (index >> 2) & 1, "bottom": (index >> 3) & 1}


def boundary_contour_shapes(
    n_shapes: int = 4, n_variants: int = 2, size: int = 128, *, half_side: float = 0.3, bulge: float = 0.1
) -> ImageSet:
    """``n_shapes x n_variants`` white squares on black whose four sides bulge out (convex, 1) or in (concave, 0).

    Image ``i`` (shape ``i // n_variants``, variant ``i % n_variants``) takes its sides' convexity from the
    bits of ``i``: ``left`` is bit 0, ``right`` bit 1, ``top`` bit 2, ``bottom`` bit 3. So with 2 variants the
    variants of one shape differ only in their left side; beyond 16 images the patterns repeat at a smaller
    scale. ``half_side`` and ``bulge`` are fractions of ``size``. Annotations: ``image_id, top, left, bottom,
    right`` (plus ``shape`` and ``variant``).

    Parameters
    ----------
    n_shapes, n_variants : int, optional
        Shapes, and variants of each (at least 1 each).
    size : int, optional
        Side of each image (pixels).
    half_side : float, optional
        Half the square's side, as a fraction of ``size``.
    bulge : float, optional
        How far a side bows out or in at its middle, as a fraction of ``size``.

    Returns
    -------
    ImageSet
        ``n_shapes * n_variants`` images, grey levels 0 (black) to 255 (white), anti-aliased.

    Raises
    ------
    DatasetError
        If ``n_shapes`` or ``n_variants`` is below 1.

    Examples
    --------
    >>> images = boundary_contour_shapes(2, 2, size=32)
    >>> len(images), images.shape
    (4, (32, 32))
    >>> images.annotations[["image_id", "left", "right", "shape", "variant"]].values.tolist()
    [[0, 0, 0, 0, 0], [1, 1, 0, 0, 1], [2, 0, 1, 1, 0], [3, 1, 1, 1, 1]]
    """
    if n_shapes < 1 or n_variants < 1:
        raise DatasetError(f"need at least one shape and one variant, got {n_shapes} x {n_variants}")
    over = 4  # supersampling, for smooth (anti-aliased) contours
    coords = (np.arange(size * over) + 0.5) / over - size / 2
    y, x = np.meshgrid(coords, coords, indexing="ij")
    images, rows = [], []
    for i in range(n_shapes * n_variants):
        sides = _side_code(i)
        scale = 0.8 ** (i // 16)
        s, b = half_side * size * scale, bulge * size * scale
        sign = {k: 1.0 if v else -1.0 for k, v in sides.items()}
        along_x = np.sin(np.pi * np.clip((x + s) / (2 * s), 0, 1))  # 0 at the corners, 1 mid-side
        along_y = np.sin(np.pi * np.clip((y + s) / (2 * s), 0, 1))
        inside = (
            (y > -s - sign["top"] * b * along_x)
            & (y < s + sign["bottom"] * b * along_x)
            & (x > -s - sign["left"] * b * along_y)
            & (x < s + sign["right"] * b * along_y)
            & (np.abs(x) < s + b)
            & (np.abs(y) < s + b)
        )
        images.append(255.0 * inside.reshape(size, over, size, over).mean(axis=(1, 3)))
        rows.append({"image_id": i, **{k: sides[k] for k in SIDES}, "shape": i // n_variants, "variant": i % n_variants})
    return ImageSet(np.stack(images), pd.DataFrame(rows))
