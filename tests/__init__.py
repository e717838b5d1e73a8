"""Tests of Printernizer for Home Assistant."""
