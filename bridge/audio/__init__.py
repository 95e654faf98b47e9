"""Audio: hearing locked tracks as Ardour plays them, and measuring them."""
