"""What every PyNN-based backend shares: building cells, synapse types and Neo recordings from the arrays."""
