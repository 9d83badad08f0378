"""The agent's pure core: context, prompts, heal details, budgets, retry timing, outcomes.

No disk, network, clock or environment here: values in, values out.
"""
