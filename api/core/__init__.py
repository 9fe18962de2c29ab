"""What every room stands on: the database and its dialects, errors, paging, messages, media,
signing, tenancy, logs and throttles. It knows no domain and no HTTP."""
