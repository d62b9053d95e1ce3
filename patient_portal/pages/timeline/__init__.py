"""The chart's Timeline page."""
