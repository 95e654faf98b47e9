"""Music: theory, the prompt, styles, form and harmony, the plan, and the part writers of the arranger."""
