"""Business files: CRM deals, surveys, costs, staff, teams, training and schedules (CSV or XLSX).

``layouts`` declares the kinds and their default layouts, ``mappings`` the file layouts read
through mapping files, ``reader`` reads CSV and XLSX, ``rows`` and ``values`` parse rows and values,
``agents`` resolves agent names; one module per kind (``deals``, ``surveys``, ``costs``, ``staff``,
``schedules``, ``training_events``) parses and stores its rows; ``loader`` loads one file,
``formats`` declares the formats, and ``attribution`` refreshes the tables derived from business
data and calls. docs/business.md describes every layout.
"""
