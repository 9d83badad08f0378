"""One narrow class per outside thing: model APIs, recordings, templates, the state folder."""
