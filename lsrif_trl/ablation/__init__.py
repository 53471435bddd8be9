"""The toy-world ablation (`make ablation`): LSRM against structure-blind rewards from one SFT start."""
