"""The terminal client (`taskchat`): a separate program that speaks ChatKit over HTTP.

It uses nothing of the chat server but its HTTP API, so it runs against any taskchat
server, local or remote.
"""
