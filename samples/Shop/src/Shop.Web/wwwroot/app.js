fetch('/api/products')
  .then(r => r.json())
  .then(items => {
    const list = document.getElementById('products');
    for (const item of items) {
      const li = document.createElement('li');
      li.textContent = `${item.name} — ${item.price}`;
      list.appendChild(li);
    }
  });
