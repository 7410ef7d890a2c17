"""Upstream answers shaped like the providers' real ones (see the integrations reference)."""

CNPJ = "11222333000181"
CNPJ_FORMATTED = "11.222.333/0001-81"


def brasilapi(**overrides):
    payload = {
        "cnpj": CNPJ,
        "razao_social": "PADARIA BOM PAO LTDA",
        "nome_fantasia": "BOM PAO",
        "situacao_cadastral": 2,
        "descricao_situacao_cadastral": "ATIVA",
        "data_situacao_cadastral": "2005-11-03",
        "data_inicio_atividade": "1998-04-15",
        "cnae_fiscal": 1091102,
        "cnae_fiscal_descricao": "Fabricação de produtos de padaria e confeitaria",
        "cnaes_secundarios": [
            {"codigo": 4721102, "descricao": "Padaria e confeitaria com predominância de revenda"},
            {
                "codigo": 5620104,
                "descricao": "Fornecimento de alimentos preparados para consumo domiciliar",
            },
        ],
        "descricao_tipo_de_logradouro": "RUA",
        "logradouro": "DAS FLORES",
        "numero": "123",
        "complemento": "LOJA 2",
        "bairro": "CENTRO",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "cep": "01311000",
        "codigo_municipio_ibge": 3550308,
        "capital_social": 150000.5,
        "porte": "MICRO EMPRESA",
        "natureza_juridica": "Sociedade Empresária Limitada",
        "opcao_pelo_simples": True,
        "opcao_pelo_mei": False,
        "qsa": [
            {
                "nome_socio": "MARIA DA SILVA",
                "cnpj_cpf_do_socio": "***123456**",
                "qualificacao_socio": "Sócio-Administrador",
                "data_entrada_sociedade": "1998-04-15",
                "identificador_de_socio": 2,
                "faixa_etaria": "Entre 41 a 50 anos",
            }
        ],
        "email": "Contato@BomPao.com.br",
        "ddd_telefone_1": "1133334444",
    }
    payload.update(overrides)
    return payload


def receitaws(**overrides):
    payload = {
        "status": "OK",
        "ultima_atualizacao": "2024-05-01T10:00:00.000Z",
        "cnpj": CNPJ_FORMATTED,
        "tipo": "MATRIZ",
        "porte": "ME",
        "nome": "PADARIA BOM PAO LTDA",
        "fantasia": "BOM PAO",
        "abertura": "15/04/1998",
        "atividade_principal": [{"code": "10.91-1-02", "text": "Fabricação de produtos de padaria e confeitaria"}],
        "atividades_secundarias": [
            {"code": "47.21-1-02", "text": "Padaria e confeitaria com predominância de revenda"}
        ],
        "natureza_juridica": "206-2 - Sociedade Empresária Limitada",
        "logradouro": "RUA DAS FLORES",
        "numero": "123",
        "complemento": "********",
        "cep": "01.311-000",
        "bairro": "CENTRO",
        "municipio": "SAO PAULO",
        "uf": "SP",
        "email": "contato@bompao.com.br",
        "telefone": "(11) 3333-4444",
        "situacao": "ATIVA",
        "data_situacao": "03/11/2005",
        "motivo_situacao": "",
        "capital_social": "10.000,00",
        "qsa": [{"nome": "MARIA DA SILVA", "qual": "49-Sócio-Administrador"}],
    }
    payload.update(overrides)
    return payload


def cnpja(**overrides):
    payload = {
        "taxId": CNPJ,
        "updated": "2024-05-01T10:00:00.000Z",
        "alias": "BOM PAO",
        "founded": "1998-04-15",
        "head": True,
        "statusDate": "2005-11-03",
        "status": {"id": 2, "text": "Ativa"},
        "company": {
            "id": 11222333,
            "name": "PADARIA BOM PAO LTDA",
            "equity": 10000,
            "nature": {"id": 2062, "text": "Sociedade Empresária Limitada"},
            "size": {"id": 1, "acronym": "ME", "text": "Microempresa"},
            "members": [
                {
                    "since": "1998-04-15",
                    "person": {"name": "MARIA DA SILVA", "type": "NATURAL"},
                    "role": {"id": 49, "text": "Sócio-Administrador"},
                }
            ],
        },
        "address": {
            "municipality": 3550308,
            "street": "Rua das Flores",
            "number": "123",
            "details": None,
            "district": "Centro",
            "city": "São Paulo",
            "state": "SP",
            "zip": "01311000",
        },
        "phones": [{"area": "11", "number": "33334444"}],
        "emails": [{"address": "contato@bompao.com.br", "domain": "bompao.com.br"}],
        "mainActivity": {"id": 1091102, "text": "Fabricação de produtos de padaria e confeitaria"},
        "sideActivities": [{"id": 4721102, "text": "Padaria e confeitaria com predominância de revenda"}],
    }
    payload.update(overrides)
    return payload
