"""Helpers for the chapter's exercises (framework-free): the noisy sine of exercise 3, text
compression of exercise 4."""
