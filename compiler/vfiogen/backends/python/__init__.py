"""The Python back end: a standard-library package of typed state classes and codecs."""
