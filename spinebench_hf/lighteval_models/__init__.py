"""One file per model for `lighteval custom NAME FILE TASKS` (lighteval loads the one model class of a file).

`spinebench model-file NAME` prints a file's path."""
