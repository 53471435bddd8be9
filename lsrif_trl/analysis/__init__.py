"""Mechanism analyses of a trained model against its base: which parameters moved, where attention went."""
