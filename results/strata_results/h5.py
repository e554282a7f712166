"""HDF5 values as plain Python and numpy: strings decoded, groups walked, datasets read on demand."""
from collections.abc import Mapping

import h5py
import numpy as np


def as_text(value):
    """An HDF5 string attribute or element as str (h5py gives str or bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return as_text(value[()])
    return value if isinstance(value, str) else str(value)


def as_texts(value):
    """A string array attribute or dataset as a list of str."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [as_text(value)]
    return [as_text(v) for v in np.asarray(value).ravel()]


def plain(value):
    """An attribute as a Python scalar, str or list."""
    if isinstance(value, (bytes, str)):
        return as_text(value)
    if isinstance(value, np.ndarray):
        return as_texts(value) if value.dtype.kind in "OSU" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read(dataset):
    """A dataset's whole content: numpy array (a numpy scalar for shape ()); strings as a list of str."""
    if h5py.check_string_dtype(dataset.dtype) is not None:
        value = dataset.asstr()[()]
        return as_text(value) if dataset.shape == () else as_texts(value)
    return dataset[()]


def child(group, name, follow_links=True):
    """group[name] or None when it is absent, a dangling link, or (follow_links False) a soft link."""
    try:
        if not follow_links and isinstance(group.get(name, getlink=True), (h5py.SoftLink, h5py.ExternalLink)):
            return None
        return group.get(name)
    except (KeyError, OSError, ValueError, RuntimeError):
        return None


def datasets(group, follow_links=False):
    """(relative path, dataset) of every dataset under `group`, in name order, reached through hard
    links only (HDF5's own walk: one call for the whole tree). A run's soft links to its trained
    model are therefore not walked twice; read those through the trained model.

    With `follow_links`, soft links below `group` are walked too (dangling ones left out): a run's
    analysis/ links the strata and dimensions it shares with the other runs of its embedding."""
    out = []
    if not follow_links:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out.append((name, obj))

        group.visititems(visit)
        return sorted(out, key=lambda item: item[0])

    def visit_link(name, link):
        if isinstance(link, h5py.HardLink):
            obj = group.get(name)
            if isinstance(obj, h5py.Dataset):
                out.append((name, obj))
            return
        target = child(group, name)
        if isinstance(target, h5py.Dataset):
            out.append((name, target))
        elif isinstance(target, h5py.Group):
            out.extend((f"{name}/{path}", ds) for path, ds in datasets(target, follow_links=True))

    group.visititems_links(visit_link)
    return sorted(out, key=lambda item: item[0])


class Group(Mapping):
    """The datasets under one archive group, by relative path ("params/dictionaries"), each read
    when it is looked up; `attrs` holds the group's attributes, `config` its parsed configuration.
    An absent group is an empty one. Soft links inside the group are not followed."""

    def __init__(self, group=None, config=None):
        self._group = group
        self._paths = dict(datasets(group)) if group is not None else {}
        self.path = group.name if group is not None else None
        self.attrs = ({k: plain(v) for k, v in group.attrs.items() if k != "config"}
                      if group is not None else {})
        self.config = config or {}

    def __getitem__(self, key):
        return read(self._paths[key])

    def __iter__(self):
        return iter(self._paths)

    def __len__(self):
        return len(self._paths)

    def shape(self, key):
        """A dataset's shape without reading it."""
        return tuple(self._paths[key].shape)

    def dataset(self, key):
        """The h5py dataset itself, for slicing a large one without reading it whole."""
        return self._paths[key]

    def __repr__(self):
        inner = ", ".join(f"{k} {self.shape(k)}" for k in self._paths)
        return f"<strata_results.Group {self.path or '(absent)'}: {inner}>"
