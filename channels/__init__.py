"""Where each audience meets the core. Nothing here owns business rules."""
