"""Hot-drop: watching sessions and delivering stems into them."""
