"""Music theory and (later) the symbolic arranger."""
