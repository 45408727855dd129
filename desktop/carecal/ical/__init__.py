"""iCalendar import and export.

``reader.read_ics`` turns a file's bytes into domain Events (lenient, all or nothing, never
expanding rules); ``writer.event_to_vevent`` / ``writer.write_ics`` write them back, patching each
event's source text so nothing Carecal does not model is lost. Imports the domain and icalendar
only.
"""
