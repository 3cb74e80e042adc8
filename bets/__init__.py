"""The rules of Hypobot: pure Python, no I/O, every clock passed in as `now`."""
