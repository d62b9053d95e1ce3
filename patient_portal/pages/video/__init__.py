"""Video visits (issue 18): the list of one's own video visits and the call's page."""
