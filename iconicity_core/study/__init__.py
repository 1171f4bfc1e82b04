"""Building the study end to end: references from Wikidata, their images, curation, generation, prompts."""
