"""Events: meetings, their speakers and their key questions."""
