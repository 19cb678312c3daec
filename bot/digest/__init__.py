"""The daily email digest: assembly, rendering, the once-a-day job and SMTP."""
