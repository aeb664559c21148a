"""Agent analytics: what the bot counts itself (property views on WhatsApp) beside what Inspector counts."""
