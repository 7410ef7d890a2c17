"""Pipefy: a GraphQL client that creates one card per company."""
