"""Reading blobs straight from the checked IR (no generated code): `vfiogen decode`."""
