"""Verifies outgoing webhook messages with the Standard Webhooks reference library
(`standardwebhooks` from PyPI), as a receiver would.

usage: python3 verify_webhooks.py < {"secret": "whsec_…", "messages": [{"headers": {…}, "body": "…"}]}

Prints a JSON list: for each message, {"payload": …} when it verifies, {"error": "…"} when not.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

request = json.load(sys.stdin)
hook = Webhook(request["secret"])
results = []
for message in request["messages"]:
    try:
        results.append({"payload": hook.verify(message["body"], message["headers"])})
    except WebhookVerificationError as e:
        results.append({"error": str(e)})
json.dump(results, sys.stdout)
