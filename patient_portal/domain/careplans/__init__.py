"""Care plans (issue 12): goals with targets on the patient's readings, activities and tasks, progress."""
