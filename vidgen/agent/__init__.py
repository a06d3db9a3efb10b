"""The model's side of the pipeline: prompts, replies, the guarded writer, the repair loop and its drivers."""
