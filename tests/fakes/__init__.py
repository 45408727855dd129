"""In-process fakes of remote services for Carecal's tests (not collected by pytest).

`google_calendar.GoogleCalendarEmulator` serves the Google Calendar API v3 and Google's OAuth
endpoints on 127.0.0.1; the tests that exercise it live in tests/providers/.
`graph_server.GraphEmulator` does the same for Microsoft Graph calendars and Entra sign-in.
`docplanner_server.DocplannerEmulator` serves the Docplanner Integrations API v3 and its token
endpoint.
"""
