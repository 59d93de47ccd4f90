"""Pure computation for Tailorwise: numpy, scipy and lightfm only."""
