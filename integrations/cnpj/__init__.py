"""Receita Federal registry lookup through public CNPJ APIs, behind one typed record."""
