"""Café menu 🍰: prices in euros, names in French and Japanese."""

# Spécialités de la maison — 本日のおすすめ 🍵
MENU = {"crème brûlée": 6.5, "抹茶ラテ": 4.2, "café crème": 3.1}


def total_price(commande):
    somme = 0
    for plat in commande:
        somme += MENU[plat]
    return somme


def describe(plat):
    # 🎉 a note with an emoji before the code that follows
    return f"{plat}: {MENU[plat]:.2f} €"
