"""Paper configurations: one small config per reported run."""
