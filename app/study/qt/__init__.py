"""Qt side of studies: the session window, questionnaires, and the replay viewer."""
