"""Baselines every detector must beat: a position prior and a re-implementation of Intro Skipper's matcher."""
