"""`vidgen ui`: a page on 127.0.0.1 where the videos play, the model is told what to change, and the checks' findings show."""
