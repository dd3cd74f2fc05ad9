"""Call quality: versioned scorecards per call type, the review sample, reviews and their CQR."""
