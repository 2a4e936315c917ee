"""Calendars: iCalendar (.ics) files for meetings, the subscribable feed and add-to-calendar links."""
