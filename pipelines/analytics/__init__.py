"""Analytics over the warehouse: region of an agency, agency identity across years, continuity, quality page."""
