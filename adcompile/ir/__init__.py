"""The intermediate representation: the hash-consed Node/Op graph, the op table and the algebraic rewrites."""
