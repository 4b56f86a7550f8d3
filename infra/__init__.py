"""Pulumi components and the pure functions behind them, one AWS concern per module."""
